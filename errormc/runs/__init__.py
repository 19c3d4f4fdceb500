"""The run machinery: configs, the one-run runner, results directories,
checkpoints, sweeps, the model registry, and the demo and paper-figure runners
built on them."""
