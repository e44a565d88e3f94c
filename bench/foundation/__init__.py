"""The foundation benchmark: ticket create and the department ticket list (API and inbox) on 1M tickets."""
