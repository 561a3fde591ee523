"""Detectors: turn series into anomaly scores, one point at a time (river's learn_one/score_one)."""
