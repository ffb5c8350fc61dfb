"""What tests read off a grading Report (autograder/grading/results.py); the engine itself needs none of it."""


def per_target(report) -> dict:
    """Graded name -> [earned, possible], in spec order."""
    out = {}
    for r in report.results:
        earned, possible = out.setdefault(r.test.graded, [0.0, 0.0])
        out[r.test.graded] = [earned + min(r.score, r.max_score), possible + r.max_score]
    return out
