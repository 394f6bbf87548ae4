"""The audience: subscribers, their lists, segments' audiences, tokens and suppression.

This package never imports ``digest``; ``digest`` uses it.
"""
