"""The paper's learning rates per model and depth (MODEL.md 3.2), in one place.

`paper_eta(model, n_areas)` is the default of every model's ``eta`` (and of the
lateral rates of Sacramento's microcircuit and dPC) and what ``errormc paper
fig3`` runs with. Depths outside the table get 0.1 per area (lateral 0.01).
"""

# forward rates per area, bottom -> top; lateral rates per hidden area
FIG3_ETA = {
    "errormc": {
        1: ([1.0], []),
        2: ([2.0, 0.2], []),
        3: ([1.0, 0.2, 0.05], []),
        4: ([2.0, 0.5, 0.125, 0.03125], []),
        5: ([1.0, 0.2, 0.1, 0.05, 0.01], []),
    },
    "ann": {
        1: ([1.0], []),
        2: ([2.0, 0.2], []),
        3: ([1.0, 0.2, 0.05], []),
        4: ([2.0, 0.5, 0.1, 0.01], []),
        5: ([1.0, 0.2, 0.1, 0.05, 0.01], []),
    },
    "sacramento2018": {
        1: ([1.0], []),
        2: ([0.1, 0.02], [0.04]),
        3: ([0.1, 0.02, 0.002], [0.04, 0.004]),
        4: ([0.1, 0.01, 0.002, 0.001], [0.02, 0.004, 0.002]),
        5: ([1.0, 0.2, 0.1, 0.05, 0.01], [0.4, 0.2, 0.1, 0.02]),
    },
}
# dPC: "same" as Sacramento in every row (eta_Q takes Sacramento's eta_P)
FIG3_ETA["dpc"] = FIG3_ETA["sacramento2018"]

MODELS = tuple(FIG3_ETA)


def paper_eta(model, n_areas):
    """``{"eta": [...], "eta_lateral": [...]}`` for ``model`` with ``n_areas`` areas."""
    if model not in FIG3_ETA:
        raise ValueError(f"model: no learning-rate table for {model!r}; have {', '.join(MODELS)}")
    if n_areas in FIG3_ETA[model]:
        eta, lateral = FIG3_ETA[model][n_areas]
    else:
        eta, lateral = [0.1] * n_areas, [0.01] * max(n_areas - 1, 0)
    return {"eta": list(eta), "eta_lateral": list(lateral)}
