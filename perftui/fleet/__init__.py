"""Fleet: many hosts, each running `perftui stream` over the user's OpenSSH, one store per host."""
