"""The errors a user can act on, in one hierarchy.

Every error that Jalon reports to a person (a one-line message on the command line, a
4xx body from the service) is a :class:`JalonError`. The command line and the service
catch ``JalonError`` and nothing broader, so a programming error (a bare ``ValueError``,
``KeyError``, ``TypeError`` from a bug) is never dressed up as bad input: it surfaces
as a crash with a traceback in the log, where a developer will see it.
"""

from __future__ import annotations


class JalonError(Exception):
    """Base of every error whose message is meant for the user."""


class InvalidInput(JalonError):
    """A value, file or request breaks a rule; the message names the field and the rule."""


class ConfigError(InvalidInput):
    """A configuration file (catalogue, spec, agency or staffing file) breaks a rule."""


class NotFound(JalonError):
    """The thing asked for does not exist (a suggestion, a model version, a file)."""


class Conflict(JalonError):
    """The request contradicts what is already recorded (e.g. a second first decision)."""


class Forbidden(JalonError):
    """The authenticated subject may not do this."""


class Refused(JalonError):
    """A guarded operation was refused by its rule (e.g. the promotion gate)."""


class Unavailable(JalonError):
    """A dependency (the records store, the model registry) cannot serve the request now."""
