/// `INFO` replies captured from redis-server 7.0.15 on loopback: a master started
/// with `--save '' --appendonly no`, and a replica of it started with
/// `--replicaof 127.0.0.1 17301`. The text is verbatim except for line endings:
/// Swift source cannot hold the carriage returns, so `crlf` puts them back.
enum InfoFixtures {
    /// Joins the lines of a fixture with `\r\n` and ends it with one, as redis-server sends it.
    static func crlf(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n") + "\r\n"
    }

    /// The master (port 17301) with one online replica.
    static let masterInfo = crlf("""
        # Server
        redis_version:7.0.15
        redis_git_sha1:00000000
        redis_git_dirty:0
        redis_build_id:ae4d7c971a948f0
        redis_mode:standalone
        os:Linux 6.18.44-fc-v669 x86_64
        arch_bits:64
        monotonic_clock:POSIX clock_gettime
        multiplexing_api:epoll
        atomicvar_api:c11-builtin
        gcc_version:12.2.0
        process_id:9104
        process_supervised:no
        run_id:810cd714efac6455ef5e64325ea404e23ffbedfc
        tcp_port:17301
        server_time_usec:1795359269467816
        uptime_in_seconds:46
        uptime_in_days:0
        hz:10
        configured_hz:10
        lru_clock:197157
        executable:/tmp/parsers-redis/redis-server
        config_file:
        io_threads_active:0

        # Clients
        connected_clients:1
        cluster_connections:0
        maxclients:10000
        client_recent_max_input_buffer:20480
        client_recent_max_output_buffer:20504
        blocked_clients:0
        tracking_clients:0
        clients_in_timeout_table:0

        # Memory
        used_memory:1084064
        used_memory_human:1.03M
        used_memory_rss:7118848
        used_memory_rss_human:6.79M
        used_memory_peak:1084064
        used_memory_peak_human:1.03M
        used_memory_peak_perc:100.22%
        used_memory_overhead:897116
        used_memory_startup:876296
        used_memory_dataset:186948
        used_memory_dataset_perc:89.98%
        allocator_allocated:1805536
        allocator_active:1961984
        allocator_resident:4632576
        total_system_memory:25276502016
        total_system_memory_human:23.54G
        used_memory_lua:32768
        used_memory_vm_eval:32768
        used_memory_lua_human:32.00K
        used_memory_scripts_eval:0
        number_of_cached_scripts:0
        number_of_functions:0
        number_of_libraries:0
        used_memory_vm_functions:33792
        used_memory_vm_total:66560
        used_memory_vm_total_human:65.00K
        used_memory_functions:200
        used_memory_scripts:200
        used_memory_scripts_human:200B
        maxmemory:0
        maxmemory_human:0B
        maxmemory_policy:noeviction
        allocator_frag_ratio:1.09
        allocator_frag_bytes:156448
        allocator_rss_ratio:2.36
        allocator_rss_bytes:2670592
        rss_overhead_ratio:1.54
        rss_overhead_bytes:2486272
        mem_fragmentation_ratio:7.16
        mem_fragmentation_bytes:6124968
        mem_not_counted_for_evict:0
        mem_replication_backlog:20508
        mem_total_replication_buffers:20504
        mem_clients_slaves:0
        mem_clients_normal:0
        mem_cluster_links:0
        mem_aof_buffer:0
        mem_allocator:jemalloc-5.3.0
        active_defrag_running:0
        lazyfree_pending_objects:0
        lazyfreed_objects:0

        # Persistence
        loading:0
        async_loading:0
        current_cow_peak:0
        current_cow_size:0
        current_cow_size_age:0
        current_fork_perc:0.00
        current_save_keys_processed:0
        current_save_keys_total:0
        rdb_changes_since_last_save:2
        rdb_bgsave_in_progress:0
        rdb_last_save_time:1795359223
        rdb_last_bgsave_status:ok
        rdb_last_bgsave_time_sec:0
        rdb_current_bgsave_time_sec:-1
        rdb_saves:0
        rdb_last_cow_size:331776
        rdb_last_load_keys_expired:0
        rdb_last_load_keys_loaded:0
        aof_enabled:0
        aof_rewrite_in_progress:0
        aof_rewrite_scheduled:0
        aof_last_rewrite_time_sec:-1
        aof_current_rewrite_time_sec:-1
        aof_last_bgrewrite_status:ok
        aof_rewrites:0
        aof_rewrites_consecutive_failures:0
        aof_last_write_status:ok
        aof_last_cow_size:0
        module_fork_in_progress:0
        module_fork_last_cow_size:0

        # Stats
        total_connections_received:6
        total_commands_processed:51
        instantaneous_ops_per_sec:1
        total_net_input_bytes:1786
        total_net_output_bytes:1265
        total_net_repl_input_bytes:0
        total_net_repl_output_bytes:394
        instantaneous_input_kbps:0.04
        instantaneous_output_kbps:0.00
        instantaneous_input_repl_kbps:0.00
        instantaneous_output_repl_kbps:0.00
        rejected_connections:0
        sync_full:1
        sync_partial_ok:0
        sync_partial_err:0
        expired_keys:0
        expired_stale_perc:0.00
        expired_time_cap_reached_count:0
        expire_cycle_cpu_milliseconds:0
        evicted_keys:0
        evicted_clients:0
        total_eviction_exceeded_time:0
        current_eviction_exceeded_time:0
        keyspace_hits:0
        keyspace_misses:0
        pubsub_channels:0
        pubsub_patterns:0
        pubsubshard_channels:0
        latest_fork_usec:586
        total_forks:1
        migrate_cached_sockets:0
        slave_expires_tracked_keys:0
        active_defrag_hits:0
        active_defrag_misses:0
        active_defrag_key_hits:0
        active_defrag_key_misses:0
        total_active_defrag_time:0
        current_active_defrag_time:0
        tracking_total_keys:0
        tracking_total_items:0
        tracking_total_prefixes:0
        unexpected_error_replies:0
        total_error_replies:0
        dump_payload_sanitizations:0
        total_reads_processed:56
        total_writes_processed:14
        io_threaded_reads_processed:0
        io_threaded_writes_processed:0
        reply_buffer_shrinks:1
        reply_buffer_expands:0

        # Replication
        role:master
        connected_slaves:1
        slave0:ip=127.0.0.1,port=17302,state=online,offset=56,lag=0
        master_failover_state:no-failover
        master_replid:cc4630d8971118145f71a563609114ae68a06258
        master_replid2:0000000000000000000000000000000000000000
        master_repl_offset:135
        second_repl_offset:-1
        repl_backlog_active:1
        repl_backlog_size:1048576
        repl_backlog_first_byte_offset:1
        repl_backlog_histlen:135

        # CPU
        used_cpu_sys:0.035446
        used_cpu_user:0.097658
        used_cpu_sys_children:0.002029
        used_cpu_user_children:0.000000
        used_cpu_sys_main_thread:0.035400
        used_cpu_user_main_thread:0.097531

        # Modules

        # Errorstats

        # Cluster
        cluster_enabled:0

        # Keyspace
        db0:keys=2,expires=0,avg_ttl=0
        """)

    /// Its replica (port 17302), link up.
    static let replicaInfo = crlf("""
        # Server
        redis_version:7.0.15
        redis_git_sha1:00000000
        redis_git_dirty:0
        redis_build_id:ae4d7c971a948f0
        redis_mode:standalone
        os:Linux 6.18.44-fc-v669 x86_64
        arch_bits:64
        monotonic_clock:POSIX clock_gettime
        multiplexing_api:epoll
        atomicvar_api:c11-builtin
        gcc_version:12.2.0
        process_id:9110
        process_supervised:no
        run_id:12c007556c49d2d51e97c2c3fb4a7df1ef2f17cd
        tcp_port:17302
        server_time_usec:1795359269474157
        uptime_in_seconds:46
        uptime_in_days:0
        hz:10
        configured_hz:10
        lru_clock:197157
        executable:/tmp/parsers-redis/redis-server
        config_file:
        io_threads_active:0

        # Clients
        connected_clients:2
        cluster_connections:0
        maxclients:10000
        client_recent_max_input_buffer:64
        client_recent_max_output_buffer:0
        blocked_clients:0
        tracking_clients:0
        clients_in_timeout_table:0

        # Memory
        used_memory:1039016
        used_memory_human:1014.66K
        used_memory_rss:6909952
        used_memory_rss_human:6.59M
        used_memory_peak:1039376
        used_memory_peak_human:1015.02K
        used_memory_peak_perc:99.97%
        used_memory_overhead:899060
        used_memory_startup:876384
        used_memory_dataset:139956
        used_memory_dataset_perc:86.06%
        allocator_allocated:1646544
        allocator_active:1888256
        allocator_resident:4562944
        total_system_memory:25276502016
        total_system_memory_human:23.54G
        used_memory_lua:32768
        used_memory_vm_eval:32768
        used_memory_lua_human:32.00K
        used_memory_scripts_eval:0
        number_of_cached_scripts:0
        number_of_functions:0
        number_of_libraries:0
        used_memory_vm_functions:33792
        used_memory_vm_total:66560
        used_memory_vm_total_human:65.00K
        used_memory_functions:200
        used_memory_scripts:200
        used_memory_scripts_human:200B
        maxmemory:0
        maxmemory_human:0B
        maxmemory_policy:noeviction
        allocator_frag_ratio:1.15
        allocator_frag_bytes:241712
        allocator_rss_ratio:2.42
        allocator_rss_bytes:2674688
        rss_overhead_ratio:1.51
        rss_overhead_bytes:2347008
        mem_fragmentation_ratio:6.65
        mem_fragmentation_bytes:5870672
        mem_not_counted_for_evict:0
        mem_replication_backlog:20508
        mem_total_replication_buffers:20504
        mem_clients_slaves:0
        mem_clients_normal:1856
        mem_cluster_links:0
        mem_aof_buffer:0
        mem_allocator:jemalloc-5.3.0
        active_defrag_running:0
        lazyfree_pending_objects:0
        lazyfreed_objects:0

        # Persistence
        loading:0
        async_loading:0
        current_cow_peak:0
        current_cow_size:0
        current_cow_size_age:0
        current_fork_perc:0.00
        current_save_keys_processed:0
        current_save_keys_total:0
        rdb_changes_since_last_save:2
        rdb_bgsave_in_progress:0
        rdb_last_save_time:1795359223
        rdb_last_bgsave_status:ok
        rdb_last_bgsave_time_sec:-1
        rdb_current_bgsave_time_sec:-1
        rdb_saves:0
        rdb_last_cow_size:0
        rdb_last_load_keys_expired:0
        rdb_last_load_keys_loaded:0
        aof_enabled:0
        aof_rewrite_in_progress:0
        aof_rewrite_scheduled:0
        aof_last_rewrite_time_sec:-1
        aof_current_rewrite_time_sec:-1
        aof_last_bgrewrite_status:ok
        aof_rewrites:0
        aof_rewrites_consecutive_failures:0
        aof_last_write_status:ok
        aof_last_cow_size:0
        module_fork_in_progress:0
        module_fork_last_cow_size:0

        # Stats
        total_connections_received:50
        total_commands_processed:56
        instantaneous_ops_per_sec:1
        total_net_input_bytes:1976
        total_net_output_bytes:31920
        total_net_repl_input_bytes:394
        total_net_repl_output_bytes:0
        instantaneous_input_kbps:0.05
        instantaneous_output_kbps:0.04
        instantaneous_input_repl_kbps:0.05
        instantaneous_output_repl_kbps:0.00
        rejected_connections:0
        sync_full:0
        sync_partial_ok:0
        sync_partial_err:0
        expired_keys:0
        expired_stale_perc:0.00
        expired_time_cap_reached_count:0
        expire_cycle_cpu_milliseconds:0
        evicted_keys:0
        evicted_clients:0
        total_eviction_exceeded_time:0
        current_eviction_exceeded_time:0
        keyspace_hits:0
        keyspace_misses:0
        pubsub_channels:0
        pubsub_patterns:0
        pubsubshard_channels:0
        latest_fork_usec:0
        total_forks:0
        migrate_cached_sockets:0
        slave_expires_tracked_keys:0
        active_defrag_hits:0
        active_defrag_misses:0
        active_defrag_key_hits:0
        active_defrag_key_misses:0
        total_active_defrag_time:0
        current_active_defrag_time:0
        tracking_total_keys:0
        tracking_total_items:0
        tracking_total_prefixes:0
        unexpected_error_replies:0
        total_error_replies:0
        dump_payload_sanitizations:0
        total_reads_processed:105
        total_writes_processed:92
        io_threaded_reads_processed:0
        io_threaded_writes_processed:0
        reply_buffer_shrinks:1
        reply_buffer_expands:0

        # Replication
        role:slave
        master_host:127.0.0.1
        master_port:17301
        master_link_status:up
        master_last_io_seconds_ago:0
        master_sync_in_progress:0
        slave_read_repl_offset:135
        slave_repl_offset:135
        slave_priority:100
        slave_read_only:1
        replica_announced:1
        connected_slaves:0
        master_failover_state:no-failover
        master_replid:cc4630d8971118145f71a563609114ae68a06258
        master_replid2:0000000000000000000000000000000000000000
        master_repl_offset:135
        second_repl_offset:-1
        repl_backlog_active:1
        repl_backlog_size:1048576
        repl_backlog_first_byte_offset:1
        repl_backlog_histlen:135

        # CPU
        used_cpu_sys:0.057636
        used_cpu_user:0.066709
        used_cpu_sys_children:0.000000
        used_cpu_user_children:0.000000
        used_cpu_sys_main_thread:0.059584
        used_cpu_user_main_thread:0.064252

        # Modules

        # Errorstats

        # Cluster
        cluster_enabled:0

        # Keyspace
        db0:keys=2,expires=0,avg_ttl=0
        """)

    /// The same replica about a second after its master was killed.
    static let replicaLinkDownInfo = crlf("""
        # Server
        redis_version:7.0.15
        redis_git_sha1:00000000
        redis_git_dirty:0
        redis_build_id:ae4d7c971a948f0
        redis_mode:standalone
        os:Linux 6.18.44-fc-v669 x86_64
        arch_bits:64
        monotonic_clock:POSIX clock_gettime
        multiplexing_api:epoll
        atomicvar_api:c11-builtin
        gcc_version:12.2.0
        process_id:9110
        process_supervised:no
        run_id:12c007556c49d2d51e97c2c3fb4a7df1ef2f17cd
        tcp_port:17302
        server_time_usec:1795359273100119
        uptime_in_seconds:50
        uptime_in_days:0
        hz:10
        configured_hz:10
        lru_clock:197161
        executable:/tmp/parsers-redis/redis-server
        config_file:
        io_threads_active:0

        # Clients
        connected_clients:1
        cluster_connections:0
        maxclients:10000
        client_recent_max_input_buffer:64
        client_recent_max_output_buffer:0
        blocked_clients:0
        tracking_clients:0
        clients_in_timeout_table:0

        # Memory
        used_memory:1079768
        used_memory_human:1.03M
        used_memory_rss:7041024
        used_memory_rss_human:6.71M
        used_memory_peak:1079768
        used_memory_peak_human:1.03M
        used_memory_peak_perc:100.16%
        used_memory_overhead:899060
        used_memory_startup:876384
        used_memory_dataset:180708
        used_memory_dataset_perc:88.85%
        allocator_allocated:1826112
        allocator_active:2097152
        allocator_resident:4771840
        total_system_memory:25276502016
        total_system_memory_human:23.54G
        used_memory_lua:32768
        used_memory_vm_eval:32768
        used_memory_lua_human:32.00K
        used_memory_scripts_eval:0
        number_of_cached_scripts:0
        number_of_functions:0
        number_of_libraries:0
        used_memory_vm_functions:33792
        used_memory_vm_total:66560
        used_memory_vm_total_human:65.00K
        used_memory_functions:200
        used_memory_scripts:200
        used_memory_scripts_human:200B
        maxmemory:0
        maxmemory_human:0B
        maxmemory_policy:noeviction
        allocator_frag_ratio:1.15
        allocator_frag_bytes:271040
        allocator_rss_ratio:2.28
        allocator_rss_bytes:2674688
        rss_overhead_ratio:1.48
        rss_overhead_bytes:2269184
        mem_fragmentation_ratio:6.77
        mem_fragmentation_bytes:6001168
        mem_not_counted_for_evict:0
        mem_replication_backlog:20508
        mem_total_replication_buffers:20504
        mem_clients_slaves:0
        mem_clients_normal:1856
        mem_cluster_links:0
        mem_aof_buffer:0
        mem_allocator:jemalloc-5.3.0
        active_defrag_running:0
        lazyfree_pending_objects:0
        lazyfreed_objects:0

        # Persistence
        loading:0
        async_loading:0
        current_cow_peak:0
        current_cow_size:0
        current_cow_size_age:0
        current_fork_perc:0.00
        current_save_keys_processed:0
        current_save_keys_total:0
        rdb_changes_since_last_save:2
        rdb_bgsave_in_progress:0
        rdb_last_save_time:1795359223
        rdb_last_bgsave_status:ok
        rdb_last_bgsave_time_sec:-1
        rdb_current_bgsave_time_sec:-1
        rdb_saves:0
        rdb_last_cow_size:0
        rdb_last_load_keys_expired:0
        rdb_last_load_keys_loaded:0
        aof_enabled:0
        aof_rewrite_in_progress:0
        aof_rewrite_scheduled:0
        aof_last_rewrite_time_sec:-1
        aof_current_rewrite_time_sec:-1
        aof_last_bgrewrite_status:ok
        aof_rewrites:0
        aof_rewrites_consecutive_failures:0
        aof_last_write_status:ok
        aof_last_cow_size:0
        module_fork_in_progress:0
        module_fork_last_cow_size:0

        # Stats
        total_connections_received:55
        total_commands_processed:61
        instantaneous_ops_per_sec:1
        total_net_input_bytes:2118
        total_net_output_bytes:39700
        total_net_repl_input_bytes:394
        total_net_repl_output_bytes:0
        instantaneous_input_kbps:0.06
        instantaneous_output_kbps:1.14
        instantaneous_input_repl_kbps:0.00
        instantaneous_output_repl_kbps:0.00
        rejected_connections:0
        sync_full:0
        sync_partial_ok:0
        sync_partial_err:0
        expired_keys:0
        expired_stale_perc:0.00
        expired_time_cap_reached_count:0
        expire_cycle_cpu_milliseconds:0
        evicted_keys:0
        evicted_clients:0
        total_eviction_exceeded_time:0
        current_eviction_exceeded_time:0
        keyspace_hits:0
        keyspace_misses:0
        pubsub_channels:0
        pubsub_patterns:0
        pubsubshard_channels:0
        latest_fork_usec:0
        total_forks:0
        migrate_cached_sockets:0
        slave_expires_tracked_keys:0
        active_defrag_hits:0
        active_defrag_misses:0
        active_defrag_key_hits:0
        active_defrag_key_misses:0
        total_active_defrag_time:0
        current_active_defrag_time:0
        tracking_total_keys:0
        tracking_total_items:0
        tracking_total_prefixes:0
        unexpected_error_replies:0
        total_error_replies:0
        dump_payload_sanitizations:0
        total_reads_processed:116
        total_writes_processed:100
        io_threaded_reads_processed:0
        io_threaded_writes_processed:0
        reply_buffer_shrinks:1
        reply_buffer_expands:0

        # Replication
        role:slave
        master_host:127.0.0.1
        master_port:17301
        master_link_status:down
        master_last_io_seconds_ago:-1
        master_sync_in_progress:0
        slave_read_repl_offset:135
        slave_repl_offset:135
        master_link_down_since_seconds:1
        slave_priority:100
        slave_read_only:1
        replica_announced:1
        connected_slaves:0
        master_failover_state:no-failover
        master_replid:cc4630d8971118145f71a563609114ae68a06258
        master_replid2:0000000000000000000000000000000000000000
        master_repl_offset:135
        second_repl_offset:-1
        repl_backlog_active:1
        repl_backlog_size:1048576
        repl_backlog_first_byte_offset:1
        repl_backlog_histlen:135

        # CPU
        used_cpu_sys:0.064063
        used_cpu_user:0.069081
        used_cpu_sys_children:0.000000
        used_cpu_user_children:0.000000
        used_cpu_sys_main_thread:0.063817
        used_cpu_user_main_thread:0.068817

        # Modules

        # Errorstats

        # Cluster
        cluster_enabled:0

        # Keyspace
        db0:keys=2,expires=0,avg_ttl=0
        """)
}
