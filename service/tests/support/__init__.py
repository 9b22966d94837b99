"""What tests share: loopback stand-ins for external services, and clients for Spotter itself."""
