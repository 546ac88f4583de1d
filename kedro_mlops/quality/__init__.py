"""How good the trained model is, beyond one score: calibration, the decision
threshold, permutation importance and slices of the test set.

Each module holds one concept; scikit-learn, matplotlib and pandas are
imported inside the functions that use them.
"""
