"""Where keys come from: key files, chains, the CA catalog, providers, the network."""
