# Capstan operator image. Build from the repository root after `./mvnw -B -q -DskipTests package`:
#   docker build -f docker/operator.Dockerfile -t capstan/operator:0.1.0 .
# (Not built in this repository's CI: no container engine is available there.)
FROM eclipse-temurin:21-jre
RUN useradd --uid 10001 capstan
COPY operator/target/capstan-operator.jar /opt/capstan-operator/lib/capstan-operator.jar
COPY operator/target/lib/ /opt/capstan-operator/lib/
USER 10001
EXPOSE 8081
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-cp", "/opt/capstan-operator/lib/*", "io.capstan.operator.OperatorMain"]
