"""What an assignment spec holds, each key declared once: as a field of the dataclass that holds its
value, with its type, default and meaning (`fields.key`). The tables the reader checks mappings
against (`TEST_FIELDS`, `SPEC_FIELDS`, `LIMIT_FIELDS`) are derived from these; `DEFAULT_FIELDS` and
`CASESET_FIELDS` are mappings no single object holds. Reading and checking a spec: model.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from autograder.core.fields import REQUIRED, Fld, key, table
from autograder.spec.kinds import KINDS, CheckKind, check_kind, kinds_with, spoken
from autograder.spec.policy import Policy

__all__ = ["Spec", "Test", "CaseSet", "Case", "Limits", "KINDS", "VISIBILITIES", "FRAMEWORKS", "Policy",
           "LIMIT_FIELDS", "DEFAULT_FIELDS", "SPEC_FIELDS", "CASESET_FIELDS", "TEST_FIELDS", "case_seed"]

VISIBILITIES = ("public", "hidden")
FRAMEWORKS = ("numpy", "torch")


@dataclass(frozen=True)
class Limits:
    """Resource limits of the child process (`limits:` of a test or of `defaults:`)."""

    memory_mb: int = key("int", 1024, "address space the child may add beyond what it inherits, in MB",
                         positive=True)
    file_size_mb: int = key("int", 16, "largest file the child may write, in MB", positive=True)
    processes: int = key("int", 32, "processes the sandbox user may run at once (enforced when grading as root)",
                         positive=True)
    output_kb: int = key("int", 10, "student stdout/stderr kept per test, in KB", positive=True)
    result_mb: int = key("int", 64, "largest reply (all returned arrays together) a child may send, in MB",
                         positive=True)
    tmp_mb: int = key("int", 64, "size of each of the child's private /tmp, /var/tmp and /dev/shm (as root), in MB",
                      positive=True)


LIMIT_FIELDS = table(Limits)

DEFAULT_FIELDS = {
    "points": Fld("number", 1, "points of a test that sets none"),
    "timeout": Fld("number", 10, "seconds a test may take (all its cases and calls together)", positive=True),
    "rtol": Fld("number", 1e-6, "relative tolerance of value comparisons"),
    "atol": Fld("number", 1e-8, "absolute tolerance of value comparisons"),
    "visibility": Fld("str", "hidden", "public (self-check and shown at once) or hidden", choices=VISIBILITIES),
    "banned": Fld("names", [], "dotted names of library callables no graded call may use"),
    "limits": Fld("mapping", {}, "resource limits of the child process (see LIMIT_FIELDS)"),
    "advisory_kinds": Fld("names", list(kinds_with("advisory")), "kinds of test that are advisory unless a test "
                                                                 "sets advisory: false (reported passed or failed, "
                                                                 "0 points)"),
}

CASESET_FIELDS = {
    "builder": Fld("name", REQUIRED, "function in the assignment's cases.py that builds one case"),
    "public": Fld("list", [], "cases shipped with the starter; each a mapping with `name` and builder arguments"),
    "hidden": Fld("list", [], "cases only in the grader zip"),
    "edges": Fld("mapping", {}, "edge shapes added as hidden cases, e.g. {N: 1, T: 1} (see kit.cases.edge_cases)"),
}


@dataclass(frozen=True)
class Case:
    name: str
    visibility: str
    params: dict
    seed: int

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.visibility} case '{self.name}'" + (f" ({shown})" if shown else "")


@dataclass(frozen=True)
class CaseSet:
    name: str
    builder: str
    cases: tuple[Case, ...]

    def select(self, visibilities) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if c.visibility in visibilities)


@dataclass(frozen=True, kw_only=True)
class Test:
    """One graded test (an entry of `tests:`); a key left out takes its value from `defaults:`."""

    target: str = key("str", REQUIRED, "graded function or class as module.name, e.g. rnn_layers.rnn_forward")
    title: str = key("str", REQUIRED, "what the test checks; the reported name is '<name>: <title>'")
    kind: str = key("str", REQUIRED, spoken(KINDS), choices=KINDS)
    probe: str = key("name", REQUIRED, "probe calling the student's code on one case: declared under probes:, "
                                       "else a function in probes.py")
    cases: str = key("name", REQUIRED, "the case set to run")
    points: float = key("number", None, "points (default: defaults.points)")
    visibility: str = key("str", None, "public or hidden (default: defaults.visibility)", choices=VISIBILITIES)
    timeout: float = key("number", None, "seconds for the whole test (default: defaults.timeout)", positive=True)
    rtol: float = key("number", None, "relative tolerance (default: defaults.rtol)")
    atol: float = key("number", None, "absolute tolerance (default: defaults.atol)")
    outputs: tuple[str, ...] = key("names", [], "outputs compared with the reference (default: every output); "
                                                "required by property and unchanged tests, whose points come "
                                                "only from these")
    trajectory: str | None = key("name", None, "an output holding one value per step (say a loss per training "
                                               "step), compared step by step: a failure names the step where it "
                                               "departs")
    forward: str | None = key("name", None, "gradients: probe giving the outputs of the student's forward pass")
    upstream: dict = key("mapping", {}, "gradients: output name -> case input holding its upstream gradient "
                                        "(null: 1)")
    verify: str | dict | None = key("judge", None, "property: the judge of the outputs (runs in the grader): a "
                                                  "function in verify.py, or {kit: NAME, setting: value} for a "
                                                  "judge of autograder.kit.judges")  # or {kit: NAME, ...settings}
    banned: tuple[str, ...] = key("names", None, "dotted names of callables this test's calls may not use "
                                                 "(adds to defaults)", value=())
    limits: Limits = key("mapping", {}, "resource limits for this test (override defaults.limits)", value=Limits())
    hint: str = key("str", "", "one line shown to students when the test fails")
    blocks: dict = key("mapping", {}, "output -> names of the equal blocks of its last axis (e.g. gates "
                                      "[i, f, o, g])")
    diagnose: bool = key("bool", True, "run in mutant analysis and match failures against the catalog; switch "
                                       "off for long training checks")
    advisory: bool = key("bool", None, "reported passed or failed with its message, but max_score 0 and no "
                                       "effect on the score (default: true for the kinds in "
                                       "defaults.advisory_kinds)", value=False)
    id: str = key("name", None, "set by the build in a bundle's copy of the spec; never written by hand",
                  value=REQUIRED)

    @property
    def graded(self) -> str:
        """The graded function or class, without its module."""
        return self.target.rsplit(".", 1)[-1]

    @property
    def module(self) -> str:
        return self.target.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        return f"{self.graded}: {self.title}"

    @property
    def check_kind(self) -> CheckKind:
        """What this test's kind takes and how it is run (kinds.py)."""
        return check_kind(self.kind)


TEST_FIELDS = table(Test)


@dataclass(frozen=True, kw_only=True)
class Spec:
    """An assignment: the top level of assignment.yaml, checked."""

    name: str = key("name", REQUIRED, "assignment name; also the folder names under assignments/ and solutions/")
    title: str = key("str", REQUIRED, "human title shown to students")
    framework: str = key("str", "numpy", "numpy or torch: what the grader preloads and installs", choices=FRAMEWORKS)
    files: tuple[str, ...] = key("files", REQUIRED, "files a student submits (python modules)")
    support: tuple[str, ...] = key("files", [], "files from the assignment folder shipped with both zips "
                                                "(data, helpers)")
    local_checks: tuple[str, ...] = key("files", [], "pytest files (test_*.py) from the assignment folder shipped "
                                                     "only in the starter: checks students run themselves (a full "
                                                     "training run), never graded")
    preload: tuple[str, ...] = key("names", [], "modules the grader imports before forking, so that children "
                                                "start warm")
    budget: float = key("number", 600, "seconds the whole grade may take; later tests fail with a timeout",
                        positive=True)
    defaults: dict = key("mapping", {}, "defaults for every test (see DEFAULT_FIELDS)")
    casesets: dict = key("mapping", REQUIRED, "named case sets: builder, public and hidden cases", name="cases")
    tests: tuple[Test, ...] = key("list", REQUIRED, "the graded tests, in the order they are reported")
    declared: dict = key("mapping", {}, "declarative probes: name -> steps (see spec/declared.py)",
                         name="probes")  # probe name -> declaration (spec/declared.py)
    policy: Policy = key("mapping", {}, "course policy: late penalty, visibility of hidden tests, daily limit "
                                        "(see policy.POLICY_FIELDS)", value=Policy())
    source: str = "assignment.yaml"
    raw: dict = field(default_factory=dict, repr=False, compare=False)  # the mapping as read

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(f[:-3] for f in self.files if f.endswith(".py"))

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    def test(self, test_id: str) -> Test:
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(test_id)


SPEC_FIELDS = table(Spec)


def case_seed(assignment: str, caseset: str, visibility: str, name: str) -> int:
    """The named seed of one case: stable across machines and Python versions."""
    digest = hashlib.sha256(f"{assignment}/{caseset}/{visibility}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
