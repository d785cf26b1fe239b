# Capstan broker image. Build from the repository root after `./mvnw -B -q -DskipTests package`:
#   docker build -f docker/broker.Dockerfile -t capstan/broker:0.1.0 .
# (Not built in this repository's CI: no container engine is available there.)
FROM eclipse-temurin:21-jre
RUN useradd --uid 10001 --create-home capstan && mkdir -p /opt/capstan/bin /var/lib/capstan && chown capstan /var/lib/capstan
COPY cli/target/capstan-cli.jar /opt/capstan/lib/capstan-cli.jar
COPY cli/target/lib/ /opt/capstan/lib/
RUN printf '#!/bin/sh\nexec java -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:--XX:MaxRAMPercentage=60} -cp "/opt/capstan/lib/*" io.capstan.cli.Capstan "$@"\n' > /opt/capstan/bin/capstan \
    && chmod +x /opt/capstan/bin/capstan
USER 10001
EXPOSE 9092 9644
ENTRYPOINT ["/opt/capstan/bin/capstan"]
CMD ["broker", "--config", "/etc/capstan/broker.properties"]
