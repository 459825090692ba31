"""The benchmark harness: data and splits (``data``), the models under test
and their settings (``models``), scoring (``scoring``), the suites
(``univariate``, ``multioutput``, ``scaling`` with ``scaling_worker``,
``overhead``), the protocols (``config``), the result cache and machine
facts (``common``) and the reports (``report``). ``benchmarks/run.py`` runs
the suites; the scripts in ``benchmarks/studies/`` use the same pieces."""
