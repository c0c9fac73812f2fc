"""Constrained request field types: the OpenAPI schema states every rule the API enforces on them.

NUL characters and lone surrogates are refused in every string of every request, before routing
(`middleware.CleanText`, with a clear message), so the types here leave them out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tutormesh.assessment.quizzes import NOT_BLANK
from tutormesh.core.stores.accounts import COHORT, USERNAME

__all__ = ["IDEMPOTENCY_KEY", "NOT_BLANK", "PATTERN_MESSAGES", "USERNAME_RULE", "Cohort", "CohortQuery", "NewPassword",
           "Username"]


USERNAME_RULE = "1-80 characters: letters, digits and _ . @ - (starting with a letter or digit)"
COHORT_RULE = "1-80 characters: letters, digits, spaces and _ . - (starting with a letter or digit)"
Username = Annotated[str, Field(pattern=USERNAME.pattern, description=USERNAME_RULE)]
Cohort = Annotated[str, Field(pattern=COHORT.pattern, description=COHORT_RULE)]
NewPassword = Annotated[str, Field(min_length=8, max_length=256)]
# A constraint on the string member, so that the schema states it (on the union it is dropped).
CohortQuery = Annotated[Annotated[str, StringConstraints(pattern=COHORT.pattern)] | SkipJsonSchema[None],
                        Query(description="a cohort name")]
# The `Idempotency-Key` header's rule, as the turn code checks it (`check_idempotency_key`).
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_.:-]{1,128}$"
# What a person reads instead of a regular expression when a value breaks one of these patterns.
PATTERN_MESSAGES = {
    NOT_BLANK: "must not be blank",
    USERNAME.pattern: USERNAME_RULE,
    COHORT.pattern: COHORT_RULE,
    IDEMPOTENCY_KEY: "1-128 characters: letters, digits and _ . : -",
}
