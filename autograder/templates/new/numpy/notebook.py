# Source of the student notebook starter/$name/$name.ipynb (regenerate: autograder notebooks $name).
# Percent format: "# %%" starts a code cell, "# %% [markdown]" a markdown cell, "# %% [setup]"
# the setup cell (autograder/templates/notebook_setup.py.tmpl, then the lines below it). Lines
# before the first cell, like these, are notes for instructors and are not published.

# %% [markdown]
# # $title
#
# You implement the functions in `$name.py`; this notebook explains what each one computes
# and checks it as soon as you have written it.
#
# **Work in the `.py` file, not here.** Each `check(...)` cell runs the public checks of one
# function through the same engine that grades your submission (on the file as saved on disk)
# and prints one line per check. `pytest` in this folder runs all of them at once.

# %% [setup]

# %% [markdown]
# ## 1. Softmax cross-entropy
#
# For scores $$x \in \mathbb{R}^{N \times C}$$ and labels $$y_i \in \{0, \dots, C-1\}$$, the loss is
# the mean negative log-probability of the right class,
#
# $$$$L = -\frac{1}{N} \sum_{i=1}^{N} \log \frac{e^{x_{i y_i}}}{\sum_j e^{x_{ij}}}, \qquad
# \frac{\partial L}{\partial x_{ij}} = \frac{1}{N}\left(p_{ij} - [j = y_i]\right).$$$$
#
# Implement `softmax_loss`; the check compares your loss and gradient with the reference, and
# your gradient with central differences of your own loss.

# %%
check("softmax_loss")

# %% [markdown]
# With all scores equal, every class has probability $$1/C$$, so the loss is $$\log C$$:

# %%
from $name import softmax_loss

loss, dx = softmax_loss(np.zeros((4, 10)), np.arange(4))
print(f"loss {loss:.4f}, log(10) = {np.log(10):.4f}")

# %% [markdown]
# When you are done, run `pytest` in this folder for the whole public self-check, then upload
# `$name.py` to Gradescope. The hidden tests use other shapes and values, so make your code
# work for any valid input.
