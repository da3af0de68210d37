"""The hall simulator: a discrete-event day of arrivals and windows driven by the real allocation policy.
Used by the managers' what-if page and by bench/hallsim's studies."""
