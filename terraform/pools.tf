# The pools to build, from variables only (tests evaluate this file with the variables alone): var.pools, or when it
# is null, today's single pool named "default" from the pool_* variables. Each pool gets an instance pool (pool.tf), a
# service on the one load balancer (nlb.tf) and an entry in the control plane's pools file (monitoring.tf).
locals {
  pools = var.pools == null ? {
    default = {
      min           = var.pool_min_size
      max           = var.pool_max_size
      size          = var.pool_initial_size
      instance_type = var.pool_instance_type
      port          = 80
      settings      = tomap({})
    }
    } : {
    for name, pool in var.pools : name => {
      min           = pool.min
      max           = pool.max
      size          = coalesce(pool.size, pool.min)
      instance_type = coalesce(pool.instance_type, var.pool_instance_type)
      port          = pool.port
      settings      = pool.settings
    }
  }

  # Exoscale names: the pool "default" keeps the names of the single pool (autoscaling-pool, autoscaling-app-*,
  # service http), so a deployment from before keeps its resources; any other pool adds its name.
  pool_resource_names = {
    for name in keys(local.pools) : name => name == "default" ? var.name_prefix : "${var.name_prefix}-${name}"
  }
  nlb_service_names = { for name in keys(local.pools) : name => name == "default" ? "http" : "http-${name}" }

  # The pool behind the single-pool outputs (instance_pool_id, load_balancer_url, load_url): "default", else the
  # first by name on port 80, else the first by name.
  primary_pool = concat(
    contains(keys(local.pools), "default") ? ["default"] : [],
    [for name in sort(keys(local.pools)) : name if local.pools[name].port == 80],
    sort(keys(local.pools)),
  )[0]
}

check "pool_bounds" {
  assert {
    condition     = alltrue([for pool in values(local.pools) : pool.min <= pool.max && pool.size <= pool.max])
    error_message = "Each pool's min and size must not exceed its max (pool_min_size and pool_initial_size must not exceed pool_max_size)."
  }
}
