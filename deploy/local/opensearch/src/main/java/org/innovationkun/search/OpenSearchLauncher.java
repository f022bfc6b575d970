package org.innovationkun.search;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Starts a single-node OpenSearch 2.19 in this JVM, for local tests: HTTP on
 * 127.0.0.1:PORT (netty4), the analysis-common (english, keyword, ...
 * analyzers), reindex, painless and mapper-extras modules, no security,
 * data/logs under HOME_DIR. Runs until SIGTERM/SIGINT, which closes the node
 * cleanly.
 *
 * Node's own constructor is used (through a subclass, as the test framework's
 * MockNode does) rather than the Bootstrap/distribution layout: the plugins
 * are ordinary classpath classes, so no plugin directories or descriptors are
 * needed.
 *
 *   java -cp launcher.jar:lib/* org.innovationkun.search.OpenSearchLauncher HOME_DIR HTTP_PORT TRANSPORT_PORT
 */
public final class OpenSearchLauncher {

    /** Node's plugin-taking constructor is protected; this exposes it. */
    static final class ClasspathPluginsNode extends Node {
        ClasspathPluginsNode(Environment env, List<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: OpenSearchLauncher HOME_DIR HTTP_PORT TRANSPORT_PORT");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        int httpPort = Integer.parseInt(args[1]);
        int transportPort = Integer.parseInt(args[2]);
        Path data = home.resolve("data");
        Path logs = home.resolve("logs");
        Path config = home.resolve("config");
        Files.createDirectories(data);
        Files.createDirectories(logs);
        Files.createDirectories(config);

        Settings settings = Settings.builder()
            .put("cluster.name", "innovation-kun-test")
            .put("node.name", "ik-search")
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", logs.toString())
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // A test server on a shared machine: never refuse writes because
            // the disk is fuller than a production cluster would like.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true)
            .build();

        Environment env = InternalSettingsPreparer.prepareEnvironment(settings, java.util.Map.of(), config, () -> "ik-search");
        // The modules a stock distribution ships that an Elasticsearch client
        // is likely to use; they load from the classpath, not a modules/ dir.
        Node node = new ClasspathPluginsNode(env, List.of(
            Netty4Plugin.class,          // HTTP (and transport) over netty4
            CommonAnalysisPlugin.class,  // english/porter_stem/keyword/... analysis
            ReindexPlugin.class,         // _delete_by_query, _update_by_query, _reindex
            PainlessPlugin.class,        // scripts
            MapperExtrasPlugin.class     // scaled_float, rank_feature, search_as_you_type
        ));

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "ik-search-shutdown"));

        node.start();
        System.out.println("[ik-search] OpenSearch started on http://127.0.0.1:" + httpPort);
        stopped.await();
    }
}
