#!/bin/bash
base64 -d /home/agent/message.b64
