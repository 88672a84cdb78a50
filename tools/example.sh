#!/usr/bin/env bash
# The README's first command: build, generate the bundled example graph, and run tffreeze on it.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
mkdir -p build/example
build/tffreeze-example-graph build/example/mobilenet_block.pb
echo
echo "\$ tffreeze inspect build/example/mobilenet_block.pb"
build/tffreeze inspect build/example/mobilenet_block.pb
echo
echo "\$ tffreeze validate build/example/mobilenet_block.pb"
build/tffreeze validate build/example/mobilenet_block.pb
echo
echo "\$ tffreeze convert build/example/mobilenet_block.pb build/example/mobilenet_block.pbtxt"
build/tffreeze convert build/example/mobilenet_block.pb build/example/mobilenet_block.pbtxt
