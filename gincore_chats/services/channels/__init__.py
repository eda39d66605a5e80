"""Messenger channel sources seen from the inbox: credentials and connection, inbound webhook
deliveries and their failures, outbound replies and their delivery state, reachability."""
