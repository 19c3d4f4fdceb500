"""Figures of single runs (learning curves); benchmark figures live with their benchmark."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def learning_curve(metrics, title=None):
    """Validation MSE per epoch (log scale), with the initial and final test MSE."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = [e + 1 for e in metrics.get("val_epochs", [])]
    if epochs:
        ax.plot(epochs, metrics["val_mse"], "o-", label="validation")
    last = metrics.get("epochs") or (max(epochs) if epochs else 1)
    if metrics.get("test_mse_initial") is not None:
        ax.axhline(metrics["test_mse_initial"], color="0.5", ls="--", label="test, untrained")
    if metrics.get("test_mse_final") is not None:
        ax.plot([last], [metrics["test_mse_final"]], "k*", ms=10, label="test, trained")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    # no tight_layout: the figure is saved with bbox_inches="tight", which already
    # takes every label in (a second layout pass doubled the cost of a sweep's plots)
    return fig
