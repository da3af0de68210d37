"""Hall simulator: a discrete-event day of a service hall that drives hallq's REAL allocation policies
(hallserver/services/allocation.py) on a simulated clock, to compare window configurations and policies on
the same citizens. `python -m bench.hallsim` prints every scenario; bench.hallsim.study feeds the report."""
