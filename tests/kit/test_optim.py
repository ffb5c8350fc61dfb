"""autograder/kit/optim.py: adam_step is the textbook Adam with the bias correction in the step."""

import numpy as np

from autograder.kit import adam_step


def test_two_steps_match_adam_written_out():
    w0, g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 0.1]), np.array([-0.2, 0.3])
    params, state = {"w": w0.copy()}, {}
    adam_step(params, {"w": g1}, state, 1, lr=0.1)
    adam_step(params, {"w": g2}, state, 2, lr=0.1)
    m = v = np.zeros(2)
    w = w0.copy()
    for t, g in ((1, g1), (2, g2)):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8 * np.sqrt(1 / (1 - 0.999 ** t)))
    np.testing.assert_allclose(params["w"], w, rtol=1e-12)
    assert set(state) == {"w"}


def test_gradients_take_the_parameters_dtype_and_every_parameter_moves():
    params = {"a": np.ones(3, dtype=np.float32), "b": np.zeros((2, 2))}
    adam_step(params, {"a": [1.0, -1.0, 0.0], "b": np.ones((2, 2))}, {}, 1, lr=0.01)
    assert params["a"].dtype == np.float32
    np.testing.assert_allclose(params["a"], [0.99, 1.01, 1.0], rtol=1e-5)
    np.testing.assert_allclose(params["b"], -0.01, rtol=1e-5)
