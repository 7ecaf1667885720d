"""The risk model: inputs loaded in bulk, factors scored from a registry, levels, contamination.

    inputs = load_inputs(customer_ids)          # a few queries for any number of customers
    model = RiskModel.load()                    # factor rows, thresholds, country risks
    evaluation = model.evaluate(inputs[pk])     # pure Python: breakdown, score, level

Writes go through `users.services.risk`, which records risk trails.
"""
