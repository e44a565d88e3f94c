"""The routing benchmark: chats routed by concurrent workers through the product's routing services."""
