"""The parts of `harness gaps` (harness/gaps.py writes the files), one module per job.

`collect` groups the gap entries of many builds by kind into `GapKindReport`s; `report` renders a
kind's Markdown report and the index; `skeleton` renders the pytest skeleton a report ends with;
`text` holds the Markdown and layer-range helpers they share. All of it is data in, text out.
"""
