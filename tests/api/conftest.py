"""The sharing tests' fixtures (observer_state, make_item, token_for), for the API tests too."""
from tests.sharing.conftest import make_item, observer_state, token_for

__all__ = ["make_item", "observer_state", "token_for"]
