# The lab's one image: the control plane, the proxy, the demo services and the external stand-in,
# from the prebuilt dist/ and the production node_modules. `lab up --runtime docker` builds it
# through the Docker Engine API with only what the image needs in the context, tagged by a hash
# of its inputs. By hand: npm ci && npm run build && docker build -t istio-lab .
#
# BASE defaults to an official Node image; on a machine that reaches no image registry,
# scripts/make-offline-base-image.sh makes one from the host's Node (the lab does this itself).
ARG BASE=node:22-bookworm-slim
FROM ${BASE}
# Pods need iptables (the capture rules) and curl (`lab exec`); the offline base already has both.
RUN if ! command -v iptables >/dev/null || ! command -v curl >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends iptables curl ca-certificates && rm -rf /var/lib/apt/lists/*; \
    fi; \
    id -u istio-proxy >/dev/null 2>&1 || echo 'istio-proxy:x:1337:1337:istio-proxy:/tmp:/bin/sh' >> /etc/passwd
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY node_modules ./node_modules
COPY dist/src ./dist/src
COPY dist/services ./dist/services
LABEL io.istio-lab.image="istio-lab"
