# The control plane's own API key: it may call only the operations it uses. The admin key (exoscale_key)
# never reaches a VM, unless create_control_plane_key is false (a key that may not manage IAM, e.g. the course's
# grader's compute+sos key): then nothing here is created and the VM gets exoscale_key (monitoring.tf).
locals {
  control_plane_operations = [
    "get-instance-pool",
    "scale-instance-pool",
    "list-instances",
    "get-operation",
    "list-load-balancers",
    # Health replacement and scale-in by chosen members; the quota caps scale-out. get-quota's service class is
    # unconfirmed (shared/reference/exoscale-iam.md): if it is refused, the control plane scales without it.
    "evict-instance-pool-members",
    "get-load-balancer",
    "get-quota",
  ]
  # Every pool's calls are the same operations, so one rule serves them all (the role's description, kept from the
  # single-pool days so that an existing role is not changed, still says "one instance pool"). Scoping to these
  # pools relies on the CEL binding `parameters.id`, which Exoscale does not document. Inside an allow rule an
  # unknown binding fails closed (scaling is denied, visibly), so it is opt-in.
  pool_ids   = join(", ", [for name in sort(keys(local.pools)) : "'${exoscale_instance_pool.app[name].id}'"])
  pool_scope = var.iam_scope_to_pool ? " && (operation in ['get-instance-pool', 'scale-instance-pool'] ? parameters.id in [${local.pool_ids}] : true)" : ""
}

resource "exoscale_iam_role" "control_plane" {
  count = var.create_control_plane_key ? 1 : 0

  name        = "${var.name_prefix}-control-plane"
  description = "Autoscaler control plane: read and scale one instance pool, read its members and load balancer"
  editable    = true

  policy = {
    default_service_strategy = "deny"
    # With control_plane_replicas = 2 the VMs also look up the database's host and CA (control-plane-replicas.tf).
    services = merge(
      {
        compute = {
          type = "rules"
          rules = [
            {
              action     = "allow"
              expression = "operation in [${join(", ", [for op in local.control_plane_operations : "'${op}'"])}]${local.pool_scope}"
            },
          ]
        }
      },
      local.ha ? {
        dbaas = {
          type = "rules"
          rules = [
            {
              action     = "allow"
              expression = "operation in [${join(", ", [for op in local.database_operations : "'${op}'"])}]"
            },
          ]
        }
      } : {},
    )
  }
}

resource "exoscale_iam_api_key" "control_plane" {
  count = var.create_control_plane_key ? 1 : 0

  name    = "${var.name_prefix}-control-plane"
  role_id = exoscale_iam_role.control_plane[0].id
}
