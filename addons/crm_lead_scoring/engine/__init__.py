"""Plain-Python scoring engine: features, learned model, rules, blending.

Nothing here touches the ORM, so each part can be read and tested on its own
with small inputs; ``models/`` gathers the data and stores the results.
"""
