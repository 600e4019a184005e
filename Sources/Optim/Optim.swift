// The Optim layer (see Package.swift for where it sits).
