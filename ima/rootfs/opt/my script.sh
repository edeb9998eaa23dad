#!/bin/sh
echo script with a space in its name
