"""How good the trained model is, beyond one score: the search over its
parameters (:mod:`~kedro_mlops.quality.tuning`), calibration, the decision
threshold, permutation importance and slices of the test set, the promotion
gate's rules (:mod:`~kedro_mlops.quality.gate`) and the model card of each
registered version (:mod:`~kedro_mlops.quality.card`).

Each module holds one concept; scikit-learn, matplotlib, pandas and MLflow are
imported inside the functions that use them, so nothing heavy is imported here.
"""
