"""The paper's tasks and protocols, metrics, run configs, sweeps and speed benchmarks."""
