// The HDF5 layer (see Package.swift for where it sits).
