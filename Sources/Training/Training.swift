// The Training layer (see Package.swift for where it sits).
