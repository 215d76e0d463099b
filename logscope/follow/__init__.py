"""`logscope tail`: read a run as it is written and announce findings as they fire.

sources.py reads files incrementally, buffer.py keeps a bounded frame of recent rows and
re-evaluates the rules on it, announce.py prints, watch.py is the polling loop.
"""
