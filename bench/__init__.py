"""Benchmarks and the hall simulator (not tests: they report numbers). `python -m bench` runs all of issue 9
and writes var/bench/report.md; each module also runs alone (see its docstring):

- bench.hallsim        discrete-event hall day driving the real allocation policies (+ Erlang C reference)
- bench.load           live load: kiosks and callers over the real broker against the real server
- bench.profile_issue  where a ticket.issue spends its time on the gateway worker
- bench.ticket_core, bench.bus_roundtrip, bench.printer_latency, bench.report_year  older focused benches
"""
