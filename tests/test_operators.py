"""Built rate networks are their model's equations, and built simulators pickle."""

import collections
import pickle
from functools import partial

import nengo
import numpy as np
import pytest

from errormc.networks import ErrorMicrocircuit, SpikingErrorMicrocircuit
from errormc.networks.baselines import ANN, DendriticMicrocircuit, DendriticPredictiveCoding

nengo.rc.set("decoder_cache", "enabled", "False")


def constant_drive(n_in, n_out):
    """Input, target, nudging and plasticity from one constant Node (no operator)."""
    node = nengo.Node(np.concatenate([np.full(n_in, 0.5), np.full(n_out, 0.1), [1.0, 1.0]]))
    return dict(
        input=node[:n_in], target=node[n_in : n_in + n_out], nudging=node[-2:-1],
        plasticity=node[-1:],
    )


def operator_counts(build, layers):
    with nengo.Network() as model:
        build(**constant_drive(layers[0], layers[-1]))
    with nengo.Simulator(model, dt=0.01, optimize=False, progress_bar=False) as sim:
        return collections.Counter(type(op).__name__ for op in sim.step_order)


def test_skip_8421_errormc_builds_to_at_most_60_operators():
    """The 8-4-2-1 skip errormc step, counted by hand (3 areas, 2 hidden):

    ======================================================  ==========
    input area r_0 = x: Reset, Copy                          2
    representation somas: rates + Euler step, 3 areas        6
    error somas: rates + Euler step, 3 areas                 6
    basal b = W r (one W over all areas): Reset, DotInc      2
    apical a = Q eps, 3 areas: Reset, DotInc                 6
    top-down B eps (one B over all areas): Reset, DotInc     2
    hidden phi' gate: Reset, DotInc (P rho), Product, x2     6
    output: Nudging, Reset, DotInc (g_ntgt P n)              3
    W learns: rule, delta Copy (weights += delta)            2
    B tracks W^T: rule, delta Copy                           2
    nengo's TimeUpdate                                       1
    ======================================================  ==========

    38 in all (149 before the light populations, in this count without the
    input node's and the probe's operators).
    """
    layers = [8, 4, 2, 1]
    counts = operator_counts(partial(ErrorMicrocircuit, layers, connectivity="skip"), layers)
    assert sum(counts.values()) == 38 <= 60
    model_math = dict(
        SimProspectiveRate=6, SimSomaticEuler=6, SimProduct=2, SimNudging=1,
        SimPreviousStepRule=1, SimTransposeTracking=1, DotInc=8,
    )
    assert {k: counts[k] for k in model_math} == model_math
    assert counts["Reset"] == 9 and counts["Copy"] == 3 and counts["TimeUpdate"] == 1


def test_reset_somas_swap_only_the_representation_operators():
    """With a reset switch the representation somas of both areas take the reset
    pair; the error somas and everything else are as without it (hand count)."""
    layers = [1, 2, 1]

    def build(reset, **nodes):
        return ErrorMicrocircuit(layers, connectivity="layered", reset=reset, **nodes)

    plain = operator_counts(partial(build, None), layers)
    reset = operator_counts(partial(build, 0.0), layers)
    assert (reset["SimResetProspectiveRate"], reset["SimResetSomaticEuler"]) == (2, 2)
    assert (reset["SimProspectiveRate"], reset["SimSomaticEuler"]) == (2, 2)
    assert (plain["SimProspectiveRate"], plain["SimSomaticEuler"]) == (4, 4)
    for name in ("SimResetProspectiveRate", "SimResetSomaticEuler", "SimProspectiveRate",
                 "SimSomaticEuler"):
        reset.pop(name, None)
        plain.pop(name, None)
    assert reset == plain


def teacher_rows(n_in, n_out, T, seed):
    rng = np.random.RandomState(seed)
    rows = np.zeros((T, n_in + n_out + 2))
    rows[:, :n_in] = rng.uniform(0, 1, (T, n_in))
    rows[:, n_in : n_in + n_out] = rng.uniform(-0.5, 0.5, (T, n_out))
    rows[:, -2] = rng.uniform(0, 1, T) < 0.7  # nudging on at most steps
    rows[:, -1] = rng.uniform(0, 1, T) < 0.8  # plastic at most steps
    return rows


RATE = {
    "errormc-layered": partial(
        ErrorMicrocircuit, [4, 3, 2], connectivity="layered", eta_lateral=0.1
    ),
    "errormc-skip": partial(ErrorMicrocircuit, [4, 3, 2, 1], connectivity="skip"),
    "sacramento2018": partial(DendriticMicrocircuit, [4, 3, 2], backward="fa", eta_apical=0.1),
    "dpc": partial(DendriticPredictiveCoding, [4, 3, 2]),
    "ann": partial(ANN, [4, 3, 2]),
    "spiking": partial(
        SpikingErrorMicrocircuit, [4, 3, 2], neurons_per_unit=10, error_neurons=20, backward="fa"
    ),
}


# nengo warns while unpickling any passthrough Node (it re-derives size_out)
@pytest.mark.filterwarnings("ignore:'Node.size_out' is being overwritten")
@pytest.mark.parametrize("name", sorted(RATE))
def test_pickled_simulator_continues_bitwise(name):
    """Run N steps, pickle the network with its simulator, run M more steps in the
    original and in the copy: every probe and every weight agrees bit for bit."""
    layers = RATE[name].args[0]
    dt = 0.001 if name == "spiking" else 0.01
    N, M = 30, 40
    rows = teacher_rows(layers[0], layers[-1], N + M, seed=3)
    with nengo.Network(seed=1) as model:
        drive = nengo.Node(nengo.processes.PresentInput(rows, dt), label="drive")
        n_in, n_out = layers[0], layers[-1]
        nodes = dict(input=drive[:n_in], target=drive[n_in : n_in + n_out], nudging=drive[-2:-1])
        if name == "spiking":  # learns at every step; slices its target per unit
            nodes["target"] = nengo.Node(size_in=n_out, label="target")
            nengo.Connection(drive[n_in : n_in + n_out], nodes["target"], synapse=None)
        else:
            nodes["plasticity"] = drive[-1:]
        net = RATE[name](**nodes)
        probes = [nengo.Probe(net.output, synapse=None) if name == "spiking"
                  else nengo.Probe(net.output.neurons, synapse=None)]
        if name != "spiking":
            probes += [nengo.Probe(c, "weights", synapse=None) for c in net.learned]
    sim = nengo.Simulator(model, dt=dt, progress_bar=False)
    sim.run_steps(N)
    net2, probes2, sim2 = pickle.loads(pickle.dumps((net, probes, sim)))
    sim.run_steps(M)
    sim2.run_steps(M)
    for p, p2 in zip(probes, probes2):
        np.testing.assert_array_equal(sim.data[p], sim2.data[p2])
        assert len(sim2.data[p2]) == N + M
    if name != "spiking":
        w, w2 = net.get_weights(sim), net2.get_weights(sim2)
        assert sorted(w) == sorted(w2)
        for key in w:
            np.testing.assert_array_equal(w[key], w2[key], err_msg=key)
    sim.close()
    sim2.close()


@pytest.mark.parametrize("stack_first", [True, False])
def test_stacks_read_their_members_whichever_is_built_first(stack_first):
    """A Stack / DendriteStack built before its members shares their signals (no
    operator); built after them it copies: either way it carries [x_1; x_2]."""
    from errormc.networks import Dendrite, DendriteStack, Population, Projection, Stack
    from errormc.networks.neurons import Identity

    x = np.array([0.5, -1.0, 2.0])
    with nengo.Network() as model:
        source = nengo.Node(x)
        # a network's own objects are built before its sub-networks'
        with nengo.Network() if stack_first else model:
            a, b = Population(2, Identity()), Population(1, Identity())
            d1, d2 = Dendrite(2), Dendrite(1)
        rates, dendrites = Stack([a, b]), DendriteStack([d1, d2])
        Projection(source[:2], a.neurons)
        Projection(source[2:], b.neurons)
        Projection(rates.neurons, dendrites, transform=2 * np.eye(3))
        probes = [nengo.Probe(o, synapse=None) for o in (rates.neurons, d1, d2)]
    with nengo.Simulator(model, dt=0.01, optimize=False, progress_bar=False) as sim:
        sim.run_steps(2)
        copies = sum(type(op).__name__ == "Copy" for op in sim.step_order)
    np.testing.assert_array_equal(sim.data[probes[0]][-1], x)
    np.testing.assert_array_equal(sim.data[probes[1]][-1], 2 * x[:2])
    np.testing.assert_array_equal(sim.data[probes[2]][-1], 2 * x[2:])
    # the two input Copies; built after its members, each stack adds one per member
    assert copies == (2 if stack_first else 6)
