// The Checkpoint layer (see Package.swift for where it sits).
