"""Plain-Python scoring engine: features, learned model, rules, blending.

Nothing here touches the ORM, so each part can be read and tested on its own
with small inputs; ``models/`` gathers the data and stores the results.
"""


def untranslated(message, *args, **kwargs):
    """Stand-in for ``env._`` outside Odoo: formats like it, translates nothing.

    Engine functions take the translation function as their ``_`` argument
    (callers pass ``env._``), so that Odoo extracts and translates the words
    they write into explanations.
    """
    if args or kwargs:
        return message % (args or kwargs)
    return message
