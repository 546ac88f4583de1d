"""The model's quality beyond one metric: the promotion gate's rules
(:mod:`~kedro_mlops.quality.gate`) and the model card of each registered
version (:mod:`~kedro_mlops.quality.card`). Nothing heavy is imported here.
"""
