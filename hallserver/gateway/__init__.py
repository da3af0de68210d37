"""The bus adapter of the hall server: requests in, replies and retained state out."""
