"""好差评 to the provincial platform (issue 17 part 7, 003 §38(四)): every evaluation and rectification the
city holds, as GB/T 39046 data records (`gbt39046`), exported in idempotent monthly batches (`export`) and
uploaded over signed HTTPS with retries and an upload log (`upload`); a local stand-in for the platform
(`receiver`) checks every field and the signature."""
