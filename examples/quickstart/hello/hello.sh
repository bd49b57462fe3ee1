#!/bin/sh
# hello: the program of the package gokoji's quickstart builds.
echo "Hello from a package built by gokoji's Koji hub and builder!"
