var x = {user:$scope.name};
admin:$(this).hide();
user1:$.su.encrypt,encryptParam
