package org.innovationkun.graph;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Starts Neo4j Community 5.26 in this JVM, for local tests: the embedded
 * database with its Bolt connector, configured from CONF_FILE (written by
 * services.sh), data and logs under HOME_DIR. Runs until SIGTERM/SIGINT,
 * which shuts the databases down cleanly.
 *
 * The embedded builder is used rather than the server bootstrap because the
 * latter expects a distribution layout (conf/, plugins/, lib/ ...) that Maven
 * Central does not ship. Its user starts as neo4j/neo4j with a forced change,
 * which no driver can log in through, so the password from the environment
 * variable IK_NEO4J_PASSWORD is set on the system database before HOME_DIR/ready
 * is written: services.sh waits for that file, so no client ever sees the
 * window between Bolt listening and the password being in place.
 *
 *   IK_NEO4J_PASSWORD=... java -cp launcher.jar:lib/* org.innovationkun.graph.Neo4jLauncher HOME_DIR CONF_FILE
 */
public final class Neo4jLauncher {

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Neo4jLauncher HOME_DIR CONF_FILE (password in IK_NEO4J_PASSWORD)");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path conf = Paths.get(args[1]).toAbsolutePath();
        String password = System.getenv("IK_NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("[ik-neo4j] IK_NEO4J_PASSWORD must hold a password of at least 8 characters");
            System.exit(2);
        }
        Path ready = home.resolve("ready");
        Files.deleteIfExists(ready);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
            .loadPropertiesFromFile(conf)
            .setUserLogProvider(new Log4jLogProvider(System.out, Level.INFO))
            .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(ready);
                dbms.shutdown();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "ik-neo4j-shutdown"));

        try {
            setPassword(dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME), password);
            // The default database must answer too before the server counts as ready.
            dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
        } catch (RuntimeException e) {
            // Neo4j's threads would keep a half-started server alive; exit (the hook shuts it down).
            e.printStackTrace();
            System.exit(1);
        }

        Path tmp = home.resolve("ready.tmp");
        Files.writeString(tmp, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, ready, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("[ik-neo4j] Neo4j started; Bolt per " + conf);
        stopped.await();
    }

    /**
     * Sets the neo4j user's password on every start, so that a data directory
     * made with another password (or none yet) follows the configured one.
     * ALTER USER refuses to "change" a password to its current value, which is
     * the normal case after a restart and is not an error here.
     */
    private static void setPassword(GraphDatabaseService system, String password) {
        try {
            system.executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
            System.out.println("[ik-neo4j] password of user neo4j set");
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                throw e;
            }
        }
    }
}
