"""Lets `pytest` in this folder run the public self-checks through the grading engine."""

pytest_plugins = ["autograder.pytest_plugin"]
