# Source of the student notebook starter/$name/$name.ipynb (regenerate: autograder notebooks $name).
# Percent format: "# %%" starts a code cell, "# %% [markdown]" a markdown cell, "# %% [setup]"
# the setup cell (autograder/templates/notebook_setup.py.tmpl, then the lines below it). Lines
# before the first cell, like these, are notes for instructors and are not published.

# %% [markdown]
# # $title
#
# You implement the functions in `$name.py` with plain tensor operations; autograd does the
# backward passes. This notebook explains what each function computes and checks it as soon
# as you have written it.
#
# **Work in the `.py` file, not here.** Each `check(...)` cell runs the public checks of one
# function through the same engine that grades your submission (on the file as saved on disk)
# and prints one line per check. `pytest` in this folder runs all of them at once.

# %% [setup]
import torch

# %% [markdown]
# ## 1. Layer normalisation
#
# Each row $$x \in \mathbb{R}^{D}$$ is normalised over its features, then scaled and shifted:
#
# $$$$\mu = \frac{1}{D}\sum_{d} x_d, \qquad \sigma^2 = \frac{1}{D}\sum_{d} (x_d - \mu)^2, \qquad
# \mathrm{out} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} \odot \gamma + \beta.$$$$
#
# Implement `layer_norm`; the check compares your output and its gradients with the reference.

# %%
check("layer_norm")

# %% [markdown]
# With $$\gamma = 1$$ and $$\beta = 0$$, every row of the output has mean 0 and variance close to 1:

# %%
from $name import layer_norm

out = layer_norm(5 + 3 * torch.randn(4, 8, dtype=torch.float64),
                 torch.ones(8, dtype=torch.float64), torch.zeros(8, dtype=torch.float64))
print("row means", out.mean(dim=1).detach().numpy().round(6))
print("row variances", out.var(dim=1, correction=0).detach().numpy().round(4))

# %% [markdown]
# When you are done, run `pytest` in this folder for the whole public self-check, then upload
# `$name.py` to Gradescope. The hidden tests use other shapes and values, so make your code
# work for any valid input.
