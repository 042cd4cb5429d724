"""The sharing tests' fixtures (observer_state, make_item, token_for) and the meetings cast, for the input tests."""
from tests.meetings.conftest import people
from tests.sharing.conftest import make_item, observer_state, token_for

__all__ = ["make_item", "observer_state", "people", "token_for"]
