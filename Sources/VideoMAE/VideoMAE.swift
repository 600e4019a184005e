// The VideoMAE layer (see Package.swift for where it sits).
